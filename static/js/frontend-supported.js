// Loaded synchronously as the first element of <body> (see templates/base.html).
// External-file version of the snippet in nhsuk-frontend's template.njk, so it
// works under a Content-Security-Policy without 'unsafe-inline'. The
// "nhsuk-frontend-supported" class tells the NHS.UK frontend CSS and JS that
// ES modules are available (app.js is loaded as a module).
document.body.className +=
  ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
