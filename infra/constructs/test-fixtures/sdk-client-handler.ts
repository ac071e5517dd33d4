import { defaultRoute53Client } from '../../../shared/aws/clients';

/** A handler that makes the default (instrumented) SDK client: bundled by the SDK-call tracing tests. */
export const handler = async (): Promise<string> => defaultRoute53Client().config.serviceId;
