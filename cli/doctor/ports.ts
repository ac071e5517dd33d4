import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AwsDoctorAdapter } from '../../shared/doctor/aws-adapter';
import { type AppCredentials, GitHubAppDoctorAdapter } from '../../shared/doctor/github-adapter';
import type { DoctorAws, DoctorGitHub } from '../../shared/doctor/port';

export interface DoctorPorts {
  aws: DoctorAws;
  /** `apiUrl`: a GHES pool's REST root (--github-api-url); undefined: api.github.com. */
  github: (credentials: AppCredentials, apiUrl?: string) => DoctorGitHub;
}

export function defaultPorts(region: string): DoctorPorts {
  return {
    aws: new AwsDoctorAdapter({
      secrets: new SecretsManagerClient({ region }),
      autoScaling: new AutoScalingClient({ region }),
      sqs: new SQSClient({ region }),
      logs: new CloudWatchLogsClient({ region }),
      cloudFormation: new CloudFormationClient({ region }),
      cloudWatch: new CloudWatchClient({ region }),
    }),
    github: (credentials, apiUrl) => new GitHubAppDoctorAdapter(credentials, apiUrl ? { apiUrl } : {}),
  };
}
