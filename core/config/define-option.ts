import { InvalidArgumentError, Option, type Command } from 'commander';
import { ValueError } from './parse-values.ts';

export interface OptionSpec<T> {
  /** e.g. '--poll-interval <duration>' */
  flags: string;
  /** SPOTGUARD_* environment variable read when the flag is absent. */
  env: string;
  description: string;
  /** Default as the user would type it; parsed like any other value. */
  default?: string;
  parse?: (value: string) => T;
  choices?: readonly string[];
}

/**
 * Adds a flag backed by an environment variable. Help shows its default and variable; a bad value
 * is reported by commander as one line naming the flag, the value (and the variable) and what is allowed.
 */
export function defineOption<T>(command: Command, spec: OptionSpec<T>): Command {
  const option = new Option(spec.flags, spec.description).env(spec.env);
  if (spec.choices) option.choices(spec.choices);
  if (spec.parse) {
    const parse = spec.parse;
    option.argParser((value: string) => {
      try {
        return parse(value);
      } catch (err) {
        if (err instanceof ValueError) throw new InvalidArgumentError(err.message);
        throw err;
      }
    });
  }
  if (spec.default !== undefined) option.default(spec.parse ? spec.parse(spec.default) : spec.default, spec.default);
  return command.addOption(option);
}
