// "Only the newest": at most one request in flight; requests made meanwhile replace each other,
// and when the answer comes the newest is sent. A drawing stroke makes a request per pointer
// move; the worker sees one at a time and never a stale backlog.
export class Latest {
  /** `send(id, make)`: posts the request `make()` builds, tagged `id`. */
  constructor(send) {
    this.send = send;
    this.id = 0; // the newest id sent
    this.inFlight = 0; // the id awaiting its answer, 0 = none
    this.next = null; // the request waiting for the answer
  }

  get busy() {
    return Boolean(this.inFlight || this.next);
  }

  /** Sends `make()` now, or when the answer in flight arrives (replacing any request waiting). */
  request(make) {
    this.next = make;
    if (!this.inFlight) this.flush();
  }

  flush() {
    const make = this.next;
    if (!make) return;
    this.next = null;
    this.inFlight = ++this.id;
    this.send(this.id, make);
  }

  /** The answer to `id` arrived: true if it answers the newest request (nothing newer waits). */
  answered(id) {
    if (id === this.inFlight) this.inFlight = 0;
    const newest = id === this.id && !this.next;
    this.flush();
    return newest;
  }

  /** Forgets the waiting request; answers already in flight are no longer the newest. */
  reset() {
    this.next = null;
    this.id++;
    this.inFlight = 0;
  }
}
