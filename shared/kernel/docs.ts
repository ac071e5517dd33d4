import type { ActionKind, RemediationSpec, TriggerSpec } from './definition';
import { settingsTable } from './settings';

function trigger(t: TriggerSpec): string {
  if (t.kind === 'schedule') return `every ${t.minutes} min`;
  if (t.kind === 'url') return 'HTTPS (Function URL)';
  const what =
    typeof t.pattern === 'function'
      ? `${t.id} (pattern scoped by the settings)`
      : [...(t.pattern.source ?? []), ...(t.pattern.detailType ?? [])].join(' / ');
  return `${what} on the ${t.bus} bus, ${t.delivery === 'queue' ? 'through a queue' : 'direct'}`;
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
      `**Triggers**: ${s.triggers.map(trigger).join('; ')}.`,
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
