// Send the verdict as soon as the page opens: the link in the email only shows this page (mail
// scanners fetch every link, so a GET records nothing). The post carries the form's CSRF token
// and the browser's Origin, like any form here; without script the button does the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-feedback-autosend]");
  if (!form || !window.fetch || !window.DOMParser) return;
  var status = document.querySelector("[data-feedback-status]");
  var button = form.querySelector("button");
  if (button) button.disabled = true;
  if (status) status.textContent = "Saving…";
  fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    credentials: "same-origin",
    headers: { "Accept": "text/html" }
  }).then(function (response) {
    return response.text();
  }).then(function (html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var main = page.querySelector("main");
    if (!main) throw new Error("no page");
    document.querySelector("main").innerHTML = main.innerHTML;
    document.title = page.title;
  }).catch(function () {
    if (button) button.disabled = false;
    if (status) status.textContent = "That did not go through. Press the button to try again.";
  });
})();
