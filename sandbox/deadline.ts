// A promise bounded in time, for waits on something outside this process that may never answer: a new member's
// start-up probe, a call to the session store.

/** `promise`, or `timedOut()` thrown once `ms` have passed without it settling. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
