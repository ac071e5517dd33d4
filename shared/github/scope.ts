import { ConfigError } from '../core/errors';

/**
 * Where a runner pool's runners are registered: an organisation (`owner`), one repository
 * (`owner` + `repository`) or an enterprise (`enterprise`).
 */
export type GitHubScope =
  | { owner: string; repository?: string | undefined; enterprise?: undefined }
  | { enterprise: string; owner?: undefined; repository?: undefined };

/** GitHub's REST root on github.com; a GitHub Enterprise Server's is `https://<host>/api/v3`. */
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/** The REST path of a scope's runners (GitHub's route template) and its parameters. */
export function runnersRoute(scope: GitHubScope): { path: string; params: Record<string, string> } {
  if (scope.enterprise !== undefined)
    return {
      path: '/enterprises/{enterprise}/actions/runners',
      params: { enterprise: scope.enterprise },
    };
  return scope.repository
    ? {
        path: '/repos/{owner}/{repo}/actions/runners',
        params: { owner: scope.owner, repo: scope.repository },
      }
    : { path: '/orgs/{org}/actions/runners', params: { org: scope.owner } };
}

/** The scope in words, for errors and audit records. */
export function describeScope(scope: GitHubScope): string {
  if (scope.enterprise !== undefined) return `enterprise ${scope.enterprise}`;
  return scope.repository ? `${scope.owner}/${scope.repository}` : `organisation ${scope.owner}`;
}

/**
 * The GitHub App installation permission the scope's runner routes need (what a read-only token is
 * down-scoped to). Enterprise runners have none: GitHub's REST reference for "List self-hosted
 * runners for an enterprise" (and every /enterprises/{enterprise}/actions/runners route) says
 * "OAuth app tokens and personal access tokens (classic) need the manage_runners:enterprise scope"
 * and "This endpoint does not work with GitHub App user access tokens, GitHub App installation
 * access tokens, or fine-grained personal access tokens"; its OpenAPI description marks those
 * routes `enabledForGitHubApps: false` (@octokit/openapi ghec.json, ghes-3.17..3.19.json).
 * https://docs.github.com/en/enterprise-cloud@latest/rest/actions/self-hosted-runners#list-self-hosted-runners-for-an-enterprise
 */
export function runnerPermissionOf(scope: GitHubScope): string | undefined {
  if (scope.enterprise !== undefined) return undefined;
  return scope.repository ? 'administration' : 'organization_self_hosted_runners';
}

/**
 * The host a pool's GitHub answers as (the webhook's X-GitHub-Enterprise-Host, lowercase):
 * `github.com` for api.github.com, else the API URL's hostname. Only https URLs without query or
 * fragment are taken (the App's JWT and tokens travel on it).
 */
export function apiHostOf(apiUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch (err) {
    throw new ConfigError(
      `GitHub API URL ${JSON.stringify(apiUrl)} is not a URL (e.g. https://ghe.example.com/api/v3)`,
      {
        cause: err,
      },
    );
  }
  if (url.protocol !== 'https:' || url.search || url.hash)
    throw new ConfigError(
      `GitHub API URL ${apiUrl} must be https without query or fragment (e.g. https://ghe.example.com/api/v3)`,
    );
  const host = url.hostname.toLowerCase();
  return host === 'api.github.com' ? 'github.com' : host;
}
