// Classic test worker: relative importScripts, as an app would write it.
importScripts('shm-lib.js', 'worker-handlers.js');
ShmWorker.listen();
