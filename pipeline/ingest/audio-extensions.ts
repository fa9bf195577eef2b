/** The file types Earshot imports, by extension (pure: the desktop's file dialog uses it too). */
export const AUDIO_EXTENSIONS = [
  '.mp3',
  '.m4a',
  '.m4b',
  '.aac',
  '.wav',
  '.ogg',
  '.oga',
  '.opus',
  '.flac',
  '.mp4',
  '.m4v',
  '.mkv',
  '.webm',
  '.mov',
];
