import type { Clock } from '../token-bucket';

/** A clock that only moves when slept on or advanced; records every sleep. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  date(): Date {
    return new Date(this.t);
  }
}
