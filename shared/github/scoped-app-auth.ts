import { createAppAuth, type StrategyOptions } from '@octokit/auth-app';

/** Installation permissions, as GitHub names them (`organization_self_hosted_runners: 'read'`). */
export type InstallationPermissions = Record<string, 'read' | 'write'>;

type AppHook = ReturnType<typeof createAppAuth>['hook'];
type RequestInterface = Parameters<AppHook>[0];
type EndpointOptions = Parameters<RequestInterface>[0] & object;

/** Routes authenticated with the App's JWT rather than an installation token (auth-app's own list, abridged). */
const APP_ROUTE =
  /^\/(?:app(?:\/|$)|marketplace_listing\/|(?:orgs|users)\/[^/]+\/installation$|repos\/[^/]+\/[^/]+\/installation$)/;

/**
 * @octokit/auth-app, with every installation token down-scoped to `permissions` (GitHub's
 * POST /app/installations/{id}/access_tokens takes a `permissions` body). auth-app 8 reads
 * `permissions` only from an explicit `auth({ type: 'installation', permissions })`: its request hook
 * asks for a token with the installation's full permissions. So the hook here asks auth-app for the
 * scoped token (auth-app caches it per permission set and renews it before expiry) and sends it; App
 * routes keep auth-app's own hook (JWT). Without `permissions` this is createAppAuth unchanged.
 */
export function createScopedAppAuth(options: StrategyOptions & { permissions?: InstallationPermissions }) {
  const { permissions, ...appOptions } = options;
  const app = createAppAuth(appOptions);
  if (!permissions) return app;
  const hook = async (
    request: RequestInterface,
    route: string | EndpointOptions,
    parameters?: Record<string, unknown>,
  ) => {
    const endpoint = request.endpoint.merge(route as string, parameters);
    const path = (endpoint.url ?? '').replace(request.endpoint.DEFAULTS.baseUrl, '').split('?')[0] ?? '';
    if (APP_ROUTE.test(path)) return app.hook(request, route as string, parameters);
    const { token } = await app({ type: 'installation', permissions });
    endpoint.headers.authorization = `token ${token}`;
    return request(endpoint as EndpointOptions);
  };
  // a new function object: app.hook itself must stay auth-app's (the hook above calls it)
  const auth = ((o: unknown) => (app as (o: unknown) => unknown)(o)) as unknown as typeof app;
  return Object.assign(auth, { hook }) as typeof app;
}

/** An installation token down-scoped to `permissions`, asked for by `strategy` (createScopedAppAuth). */
export interface DownScope {
  permissions: InstallationPermissions;
  strategy: typeof createScopedAppAuth;
}
