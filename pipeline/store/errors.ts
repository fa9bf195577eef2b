/**
 * Errors the store can raise that a person may read. SQLite's codes are translated into what
 * happened, what Earshot does about it, and what the user can do.
 */
export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

function sqliteCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Turn a raw SQLite failure into a StoreError a user can act on; other errors pass through. */
export function explainStoreError(err: unknown, doing: string): unknown {
  const code = sqliteCode(err);
  if (!code?.startsWith('SQLITE_')) return err;
  if (code === 'SQLITE_FULL') {
    return new StoreError(
      code,
      `The disk is full, so Earshot could not save while ${doing}. Nothing already saved was lost; ` +
        'free some disk space and Earshot will carry on where it stopped.',
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      code,
      `The library database was busy (another Earshot process is writing to it) while ${doing}. ` +
        'Nothing was changed; try again in a moment, and close other Earshot windows if it keeps happening.',
      { cause: err },
    );
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY')) {
    return new StoreError(
      code,
      `Earshot cannot write to its library database while ${doing}: the file or folder is read-only. ` +
        'Check the permissions of the data folder.',
      { cause: err },
    );
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new StoreError(
      code,
      `The library database is damaged or is not an Earshot database (${doing}). ` +
        'Earshot has not changed it; restore it from a backup or choose another data folder.',
      { cause: err },
    );
  }
  return err;
}
