/** Redis (the job queue) did not take a job: the caller should answer 503 and may retry. */
export class QueueUnavailableError extends Error {
  override name = 'QueueUnavailableError';
  constructor(cause: unknown) {
    super(`the job queue (Redis) is not reachable: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** Another request created a session under the same idempotency key first. */
export class IdempotencyKeyTakenError extends Error {
  override name = 'IdempotencyKeyTakenError';
  constructor(readonly key: string) {
    super(`idempotency key ${JSON.stringify(key)} is taken`);
  }
}

/** The email's mailbox already holds `max` live sessions: the caller answers 429. */
export class EmailCapReachedError extends Error {
  override name = 'EmailCapReachedError';
  constructor(
    readonly mailbox: string,
    readonly live: number,
    readonly max: number,
  ) {
    super(`the mailbox ${mailbox} already has ${live} live demo session(s), at most ${max} allowed`);
  }
}
