// The scoreboard's service worker: shows each Web Push the server sends
// (a JSON { title, body, tag, url }) and opens its page when clicked. The
// tag is per match, so a newer score replaces an older one still shown.
'use strict';
self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || 'InTheGame', {
      body: data.body || '',
      tag: data.tag,
      renotify: Boolean(data.tag),
      data: { url: data.url || '/' },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url || '/', self.location.origin).href;
  event.waitUntil(self.clients.openWindow(url));
});
