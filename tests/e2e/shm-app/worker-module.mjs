// Module test worker: relative static imports, as an app would write it.
import './shm-lib.js';
import './worker-handlers.js';
self.ShmWorker.listen();
