/*
 * What the test workers do when the page asks (one message, one job); classic script shared
 * by worker-classic.js (importScripts) and worker-module.mjs (import).
 */
(function (global) {
  'use strict';
  var L = global.ShmLib;

  function handle(job) {
    if (job.op === 'serve-mailbox') {
      L.mailboxServeBlocking(L.views(job.buffer), job.count, L.answer);
      return { served: job.count };
    }
    if (job.op === 'call-mailbox') {
      var mailbox = L.views(job.buffer);
      var results = job.requests.map(function (request) {
        return L.parse(L.mailboxCallBlocking(mailbox, L.json(request)));
      });
      return { results: results };
    }
    if (job.op === 'serve-ring') {
      var requests = L.ring(job.requests, job.dataOffset, job.capacity);
      var responses = L.ring(job.responses, job.dataOffset, job.capacity);
      for (var i = 0; i < job.count; i++) L.ringWriteBlocking(responses, L.answer(L.ringReadBlocking(requests)));
      return { served: job.count };
    }
    if (job.op === 'raw') {
      var counter = new Int32Array(job.buffer);
      for (var k = 0; k < job.count; k++) Atomics.add(counter, 0, 1);
      Atomics.notify(counter, 0);
      return { value: Atomics.load(counter, 0) };
    }
    if (job.op === 'fetch-relative') {
      return fetch(job.path).then(function (response) { return response.text(); }).then(function (text) {
        return { text: text, location: String(global.location.href), origin: global.location.origin };
      });
    }
    if (job.op === 'fetch-and-answer') {
      // Answers at once, with the request still in flight: the page terminates the worker
      // as soon as it reads the answer.
      fetch(job.path).catch(function () {});
      return { started: true };
    }
    if (job.op === 'register-ring') {
      // A worker that names a channel itself.
      global.framescope.registerSharedChannel(job.buffer, { name: job.name, layout: 'ring', capacity: job.capacity });
      return { registered: true };
    }
    return { error: 'unknown job ' + job.op };
  }

  global.ShmWorker = {
    listen: function () {
      global.addEventListener('message', function (event) {
        Promise.resolve(handle(event.data)).then(function (result) {
          global.postMessage(Object.assign({ job: event.data.op }, result));
        }, function (error) {
          global.postMessage({ job: event.data.op, error: String(error && error.stack || error) });
        });
      });
    },
  };
})(self);
