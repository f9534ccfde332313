import fc from 'fast-check';

/** Text PostgreSQL can store, biased to COPY's special characters: any code points but NUL (lone surrogates cannot be UTF-8). */
export const pgText = () =>
  fc
    .string({
      unit: fc.oneof(
        fc.constantFrom('\\', '\t', '\n', '\r', 'N', ' ', '\\N', 'ñ', '€', '🥐'),
        fc.string({ unit: 'grapheme', maxLength: 1 }),
      ),
      maxLength: 40,
    })
    .filter((s) => !s.includes('\0'));
