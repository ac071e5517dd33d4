import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors';
import { apiHostOf, DEFAULT_GITHUB_API_URL, describeScope, runnerPermissionOf, runnersRoute } from './scope';

describe('GitHub scope of a runner pool', () => {
  it('routes organisation, repository and enterprise runners to their REST paths', () => {
    expect(runnersRoute({ owner: 'acme' })).toEqual({
      path: '/orgs/{org}/actions/runners',
      params: { org: 'acme' },
    });
    expect(runnersRoute({ owner: 'acme', repository: 'infra' })).toEqual({
      path: '/repos/{owner}/{repo}/actions/runners',
      params: { owner: 'acme', repo: 'infra' },
    });
    expect(runnersRoute({ enterprise: 'acme-corp' })).toEqual({
      path: '/enterprises/{enterprise}/actions/runners',
      params: { enterprise: 'acme-corp' },
    });
  });

  it('names the scope in words (errors, audit)', () => {
    expect(describeScope({ owner: 'acme' })).toBe('organisation acme');
    expect(describeScope({ owner: 'acme', repository: 'infra' })).toBe('acme/infra');
    expect(describeScope({ enterprise: 'acme-corp' })).toBe('enterprise acme-corp');
  });

  it('names the installation permission of org and repo runners; none exists for enterprise runners', () => {
    expect(runnerPermissionOf({ owner: 'acme' })).toBe('organization_self_hosted_runners');
    expect(runnerPermissionOf({ owner: 'acme', repository: 'infra' })).toBe('administration');
    expect(runnerPermissionOf({ enterprise: 'acme-corp' })).toBeUndefined();
  });

  it("takes the pool's host from its API URL: github.com by default, the GHES hostname otherwise", () => {
    expect(DEFAULT_GITHUB_API_URL).toBe('https://api.github.com');
    expect(apiHostOf('https://api.github.com')).toBe('github.com');
    expect(apiHostOf('https://GHE.Example.com/api/v3')).toBe('ghe.example.com');
    expect(apiHostOf('https://ghe.example.com/api/v3/')).toBe('ghe.example.com');
    for (const bad of [
      'ghe.example.com',
      'http://ghe.example.com/api/v3',
      'https://ghe.example.com/api/v3?x=1',
    ])
      expect(() => apiHostOf(bad), bad).toThrow(ConfigError);
  });
});
