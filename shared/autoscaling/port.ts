/** One terminate (or launch) lifecycle action, as the Auto Scaling event names it. */
export interface LifecycleActionRef {
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken: string;
  instanceId: string;
}

/**
 * Port: Auto Scaling lifecycle actions. 'gone' means Auto Scaling answered "No active Lifecycle
 * Action found": the token expired (heartbeat timeout) or was already used. That is final: record
 * it, never retry it (retrying loops forever).
 */
export interface LifecycleActions {
  heartbeat(ref: LifecycleActionRef): Promise<'recorded' | 'gone'>;
  complete(ref: LifecycleActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'gone'>;
}
