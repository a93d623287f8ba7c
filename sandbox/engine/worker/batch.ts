// Messages between the pool and a member process, sent in batches. Each IPC write is a syscall, measured here
// at ~40 µs: a quarter of the service's own CPU per request when every request and every answer went alone.
// What is sent in one turn of the event loop goes as one array, in order, at the end of that turn.

export function batchedSender<T>(write: (messages: T[]) => void): (message: T) => void {
  let pending: T[] | undefined;
  return (message) => {
    if (pending) {
      pending.push(message);
      return;
    }
    pending = [message];
    setImmediate(() => {
      const batch = pending!;
      pending = undefined;
      write(batch);
    });
  };
}

/** The receiving side: a batch or (from a sender that does not batch) one message. */
export function eachMessage<T>(received: T | T[], handle: (message: T) => void): void {
  if (Array.isArray(received)) for (const message of received) handle(message);
  else handle(received);
}
