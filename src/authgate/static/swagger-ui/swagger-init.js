// authgate's start of Swagger UI over /openapi.json. A file of its own, not an inline script:
// the /docs page's CSP allows scripts from this origin only. No validator badge (it would ask
// an outside service), no "Try it out" calls anywhere but this origin.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#ui",
    validatorUrl: null,
  });
});
