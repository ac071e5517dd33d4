import { type ActionKind, patternOf, type RemediationSpec, type TriggerSpec } from './definition';
import { type SettingsSpec, settingsTable } from './settings';

/**
 * Values to show a settings-scoped pattern with: the declared defaults, an empty list or the
 * variable's name for the others (only the pattern's source and detail type are shown).
 */
function sampleValues(settings: SettingsSpec): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, s]) => [
      key,
      s.default ?? (s.value.safeParse([]).success ? [] : `<${s.env}>`),
    ]),
  );
}

function trigger(t: TriggerSpec, settings: SettingsSpec): string {
  if (t.kind === 'schedule') return `every ${t.minutes} min`;
  if (t.kind === 'url') return 'HTTPS (Function URL)';
  const scoped = typeof t.pattern === 'function';
  const p = patternOf(t.pattern, sampleValues(settings));
  const what = [...(p.source ?? []), ...(p.detailType ?? [])].join(' / ');
  const by = scoped ? ' (scoped by the settings)' : '';
  return `${what}${by} on the ${t.bus} bus, ${t.delivery === 'queue' ? 'through a queue' : 'direct'}`;
}

function approval(k: ActionKind<never>): string {
  if (k.reversible) return 'reversible';
  return k.unattended ? `irreversible, unattended: ${k.unattended}` : 'irreversible: **needs approval**';
}

// biome-ignore lint/suspicious/noExplicitAny: any remediation
function actionsTable(spec: RemediationSpec<any, any>): string {
  const kinds = Object.entries(spec.actions as Readonly<Record<string, ActionKind<never>>>);
  if (kinds.length === 0) return 'Takes no fleet-mutating action.';
  const rows = kinds.map(
    ([name, k]) =>
      `| \`${name}\` | \`${k.audit}\` | ${k.does} | ${approval(k)} | ${k.weight} | ${k.calls.map((c) => `\`${c}\``).join(', ') || 'none (records only)'} |`,
  );
  return [
    '| kind | audit action | does | reversibility | budget weight | mutating calls |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * docs/remediations.md: every registered remediation, derived from its definition (what triggers
 * it, what it may do, its settings). Generated (`npm run docs`); a test keeps it current.
 */
// biome-ignore lint/suspicious/noExplicitAny: a registry holds remediations of every settings shape
export function remediationsDoc(specs: readonly RemediationSpec<any, any>[]): string {
  const sections = specs.map((s) =>
    [
      `## ${s.name}`,
      '',
      s.summary,
      '',
      `**Triggers**: ${s.triggers.map((t) => trigger(t, s.settings)).join('; ')}.`,
      '',
      '**Actions**',
      '',
      actionsTable(s),
      '',
      '**Settings**',
      '',
      settingsTable(s.settings),
    ].join('\n'),
  );
  return [
    '# Remediations',
    '',
    '<!-- Generated from functions/*/definition.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every function of the fleet is a definition run by the remediation kernel (shared/kernel/README.md).',
    'An irreversible action that is not declared unattended goes through the approval gate; until',
    'approvals are deployed it is reported, never taken.',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
}
