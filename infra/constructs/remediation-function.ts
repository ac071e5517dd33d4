import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, Duration, Fn, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import type { ActionKind, IamGrant, RemediationSpec, TriggerSpec } from '../../shared/kernel/definition';
import { type SettingsOf, type SettingsSpec, settingsEnv } from '../../shared/kernel/settings';
import type { AuditAccess } from './audit-access';
import { deadLetterAlarm, deadLetterQueue } from './dead-letter-queue';
import { FleetFunction, type FleetPermission } from './fleet-function';
import { fleetKey } from './fleet-key';
import { eventPattern, withStackPseudo } from './from-definition';
import { refuseInvalidProps } from './props-validation';
import { EVENT_DELIVERY, functionTarget, scheduleDelivery, TrustedQueueTarget } from './rule-targets';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RemediationFunctionProps<S extends SettingsSpec> {
  /** The remediation (functions/<name>/definition.ts): triggers, settings, actions, IAM. */
  readonly definition: RemediationSpec<S> & { readonly entry: string };
  /** Topic every alarm of the function and its queue notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Where the function writes its audit records (its AUDIT_TABLE_NAME setting is filled from it). */
  readonly audit: AuditAccess;
  /**
   * Values of the definition's settings; each is checked against its declaration.
   * @default - the declared defaults (a setting without one must be given)
   */
  readonly settings?: Partial<SettingsOf<S>>;
  /**
   * The fleet's GitHub bus, for triggers on `bus: 'github'`.
   * @default - none: a definition with such a trigger is refused
   */
  readonly githubBus?: events.IEventBus;
  /**
   * Function timeout.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency: how many invocations may run at once. One at a time keeps a run's
   * planning, budget and actions from racing another run's (a schedule tick and an event).
   * @default 1
   */
  readonly concurrency?: number;
  /**
   * Messages per batch for a queue trigger (1 to 10000).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Key for the queue, its DLQ and the function's logs.
   * @default - the stack's shared FleetKey
   */
  readonly encryptionKey?: kms.IKey;
}

/** Full values: the given ones over the declared defaults, the audit table filled in. */
function valuesOf<S extends SettingsSpec>(props: RemediationFunctionProps<S>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(props.definition.settings)) {
    const given = (props.settings as Record<string, unknown> | undefined)?.[key];
    values[key] = given ?? (s.env === AUDIT_TABLE_ENV ? props.audit.tableName : s.default);
  }
  return values;
}

function validate<S extends SettingsSpec>(
  scope: Construct,
  id: string,
  props: RemediationFunctionProps<S>,
): void {
  const problems: string[] = [];
  const values = valuesOf(props);
  for (const [key, s] of Object.entries(props.definition.settings)) {
    const v = values[key];
    if (v === undefined) {
      if (!s.optional) problems.push(`${key} (${s.env}) is required: ${s.doc}`);
      continue;
    }
    if (Token.isUnresolved(v)) continue;
    const parsed = s.value.safeParse(v);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => i.message).join(', ');
      problems.push(`${key} (${s.env})=${JSON.stringify(v)}: ${why}`);
    }
  }
  const b = props.batchSize;
  if (b !== undefined && (!Number.isInteger(b) || b < 1 || b > 10000))
    problems.push(`batchSize must be an integer from 1 to 10000, got ${b}`);
  const needsBus = props.definition.triggers.some((t) => t.kind === 'events' && t.bus === 'github');
  if (needsBus && !props.githubBus)
    problems.push(`${props.definition.name} has a GitHub bus trigger: githubBus is required`);
  refuseInvalidProps('RemediationFunction', scope, id, problems);
}

const PSEUDO: Record<string, string> = {
  Partition: Aws.PARTITION,
  Region: Aws.REGION,
  AccountId: Aws.ACCOUNT_ID,
};

/**
 * A declared resource with its pseudo parameters: by Fn::Sub when it is plain text; when it also
 * names a deploy-time token (a table's name), by the pseudo parameters' own tokens, so it renders as
 * one Fn::Join (Fn::Sub cannot hold a join).
 */
function sub(resource: string): string {
  if (!resource.includes('${AWS::')) return resource;
  if (!Token.isUnresolved(resource)) return Fn.sub(resource);
  return resource.replace(
    /\$\{AWS::(Partition|Region|AccountId)\}/g,
    (_m, name: string) => PSEUDO[name] ?? _m,
  );
}

function declaredGrants<S extends SettingsSpec>(
  definition: RemediationSpec<S>,
  values: SettingsOf<S>,
): IamGrant[] {
  const kinds = Object.values(definition.actions as Readonly<Record<string, ActionKind<SettingsOf<S>>>>);
  return [...definition.reads(values), ...kinds.flatMap((k) => [...k.iam(values)])];
}

/**
 * cdk-nag's IAM5 flags every ARN wildcard (`volume/*`). One a declared grant scopes with a
 * condition (the Fleetwarden IAM rule requires one on mutating wildcards) is acknowledged on the
 * function's role, the reason naming the actions and the condition; an unconditioned one stays a
 * finding.
 */
function acknowledgeScopedWildcards(fn: FleetFunction, grants: readonly IamGrant[]): void {
  const reasons = new Map<string, string[]>();
  for (const g of grants) {
    if (!g.conditions) continue;
    for (const r of g.resources) {
      if (r === '*' || !r.includes('*')) continue;
      const id = `AwsSolutions-IAM5[Resource::${r.replace(/\$\{([^}]+)\}/g, '<$1>')}]`;
      const why = `${g.actions.join(', ')} only where ${JSON.stringify(g.conditions)}`;
      reasons.set(id, [...(reasons.get(id) ?? []), why]);
    }
  }
  for (const [id, why] of reasons)
    Validations.of(fn.role).acknowledge({
      id,
      reason: `Resource ids are not known in advance (they are what the remediation finds); each statement is scoped by its condition: ${why.join('; ')}.`,
    });
}

/**
 * The IAM statements a remediation's role gets: its declared reads, then each action kind's
 * grants, scoped by the settings (pseudo parameters substituted: with `scope`, by its stack's
 * partition, region and account, as a hand-written statement renders; otherwise by Fn::Sub).
 * Nothing else.
 */
export function remediationPermissions<S extends SettingsSpec>(
  definition: RemediationSpec<S>,
  values: SettingsOf<S>,
  scope?: Construct,
): FleetPermission[] {
  return declaredGrants(definition, values).map((g) => ({
    actions: [...g.actions],
    resources: g.resources.map((r) => (scope ? withStackPseudo(scope, r) : sub(r))),
    ...(g.conditions ? { conditions: g.conditions as Record<string, Record<string, unknown>> } : {}),
  }));
}

/**
 * A remediation deployed from its definition: one FleetFunction (bundling, logs, tracing, DLQ,
 * alarms) with the definition's settings as its environment, exactly the IAM its reads and action
 * kinds declare, and its triggers: schedules (retried within one period), rules into a trusted,
 * encrypted, dead-lettered queue (partial batch failures) or straight to the function.
 */
export class RemediationFunction<S extends SettingsSpec = SettingsSpec> extends Construct {
  readonly function: FleetFunction;
  readonly rules: events.Rule[] = [];
  /** The queue of its queued triggers (one per remediation), if it has any. */
  readonly queue?: sqs.Queue;
  readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: RemediationFunctionProps<S>) {
    validate(scope, id, props);
    super(scope, id);
    const def = props.definition;
    const key = props.encryptionKey ?? fleetKey(this);
    const values = valuesOf(props) as SettingsOf<S>;
    this.function = new FleetFunction(this, 'Function', {
      entry: isAbsolute(def.entry) ? def.entry : `${REPO_ROOT}${def.entry}`,
      description: def.summary,
      alarmTopic: props.alarmTopic,
      timeout: props.timeout ?? Duration.minutes(1),
      environment: settingsEnv(def.settings, values),
      reservedConcurrentExecutions: props.concurrency ?? 1,
      encryptionKey: key,
    });
    props.audit.grantWrite(this.function);
    for (const p of remediationPermissions(def, values)) this.function.allow(p);
    acknowledgeScopedWildcards(this.function, declaredGrants(def, values));
    if (def.triggers.some((t) => t.kind === 'events' && t.delivery === 'queue')) {
      const { queue, dlq } = this.addQueue(key, props);
      this.queue = queue;
      this.deadLetterQueue = dlq;
    }
    for (const [i, t] of def.triggers.entries()) this.addTrigger(t, i, props, values);
  }

  private addQueue(key: kms.IKey, props: RemediationFunctionProps<S>): { queue: sqs.Queue; dlq: sqs.Queue } {
    const name = props.definition.name;
    const dlq = deadLetterQueue(this, 'DeadLetter', {
      key,
      of: `the ${name} queue (and of its EventBridge targets)`,
    });
    const queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      // AWS guidance for Lambda event sources: at least 6x the function timeout
      visibilityTimeout: Duration.seconds(this.function.timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
    });
    this.function.fn.addEventSource(
      new SqsEventSource(queue, { batchSize: props.batchSize ?? 10, reportBatchItemFailures: true }),
    );
    deadLetterAlarm(this, 'DeadLetterAlarm', {
      deadLetterQueue: dlq,
      topic: props.alarmTopic,
      summary: `fleetwarden ${name} queue: events that could not be handled are waiting in the dead-letter queue`,
      runbook: 'remediation-queue-dead-letters',
    });
    return { queue, dlq };
  }

  private addTrigger(
    t: TriggerSpec<SettingsOf<S>>,
    i: number,
    props: RemediationFunctionProps<S>,
    values: SettingsOf<S>,
  ): void {
    const name = props.definition.name;
    if (t.kind === 'url') return; // a Function URL is the caller's to add (auth, CORS)
    if (t.kind === 'schedule') {
      const every = Duration.minutes(t.minutes);
      this.rules.push(
        new events.Rule(this, i === 0 ? 'Schedule' : `Schedule${i}`, {
          description: `fleetwarden ${name} schedule`,
          schedule: events.Schedule.rate(every),
          targets: [functionTarget(this.function, scheduleDelivery(every))],
        }),
      );
      return;
    }
    const rule = new events.Rule(this, t.id, {
      description: `fleetwarden ${name}: ${t.id}`,
      eventPattern: eventPattern(t.pattern, values),
      ...(t.bus === 'github' && props.githubBus ? { eventBus: props.githubBus } : {}),
    });
    if (t.delivery === 'queue' && this.queue && this.deadLetterQueue)
      rule.addTarget(
        new TrustedQueueTarget(this.queue, { deadLetterQueue: this.deadLetterQueue, ...EVENT_DELIVERY }),
      );
    else rule.addTarget(functionTarget(this.function, EVENT_DELIVERY));
    this.rules.push(rule);
  }
}
