export { openDatabase, migrate, schemaVersion, writeTx, type Db, type OpenOptions } from './db.ts';
export { databasePath, defaultDataDir, resolveDataDir } from './paths.ts';
export { StoreError, explainStoreError } from './errors.ts';
export { migrations, LATEST_SCHEMA_VERSION } from './migrations.ts';
