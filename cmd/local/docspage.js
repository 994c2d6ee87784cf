// Renders the API reference at /docs: the OpenAPI document this server
// embeds (/docs/openapi.yaml), by Redoc's standalone bundle, loaded from
// this server by the page after this script.
//
// The container's data-redoc attribute tells how it went ("loading",
// "rendered", or "error: ..."), and data-csp-violations lists anything the
// page's Content-Security-Policy blocked; cmd/local's TestDocsPageRenders
// reads both from the DOM headless Chromium renders.
"use strict";

(function () {
  var violations = [];
  document.addEventListener("securitypolicyviolation", function (e) {
    var v = e.effectiveDirective + " blocked " + (e.blockedURI || "inline") +
      (e.sourceFile ? " (" + e.sourceFile + ":" + e.lineNumber + ")" : "");
    violations.push(v);
    console.warn("Content-Security-Policy: " + v);
    var root = document.getElementById("redoc");
    if (root) {
      root.setAttribute("data-csp-violations", violations.join("\n"));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("redoc");
    if (typeof Redoc === "undefined") {
      root.setAttribute("data-redoc", "error: Redoc's bundle did not load");
      root.textContent = "Redoc's bundle did not load from /docs/redoc.standalone.js.";
      return;
    }
    Redoc.init("/docs/openapi.yaml", {
      expandResponses: "200,201",
      pathInMiddlePanel: true,
      sortTagsAlphabetically: false
    }, root, function (err) {
      root.setAttribute("data-redoc", err ? "error: " + err : "rendered");
    });
  });
})();
