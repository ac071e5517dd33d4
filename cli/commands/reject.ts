import { decideCommand } from '../approvals/decide';

export const command = decideCommand('reject');
