/**
 * zod/mini ships no error-message locale: a failed parse would say only "Invalid input". Functions
 * import `zod/mini` (its schemas tree-shake; classic `zod` puts 60-70 KB more and ~27 ms of init
 * into every bundle), and every file that declares a schema imports this module first so messages
 * stay English and specific ("Too small: expected string to have >=1 characters"). Only `en` is
 * bundled.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
