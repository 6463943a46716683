// clustermgr: the API documentation page. Swagger UI (vendored) reads the OpenAPI
// document the signed-in session may fetch; no inline script, so the page keeps the
// app's Content-Security-Policy.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!root || !window.SwaggerUIBundle) return;
  window.SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    // The session reads the document; calls from the page need a token (Authorize).
    persistAuthorization: false,
    validatorUrl: null,
  });
});
