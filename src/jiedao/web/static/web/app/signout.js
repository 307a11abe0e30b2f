/* Signed out: the staff pages kept on this phone for offline use are removed (the service
 * worker holds them; the queue of unsent submissions stays, for its owner's next sign-in). */
(function () {
  "use strict";
  if ("serviceWorker" in navigator && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: "jiedao-signed-out" });
  }
})();
