// Fill the time zone select with the browser's own zone. Without JavaScript the select keeps
// the server's default and the person picks from the list.
(function () {
  "use strict";
  var select = document.querySelector("select[data-autodetect]");
  if (!select || !window.Intl || !Intl.DateTimeFormat) return;
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) return;
  var known = false;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) known = true;
  }
  if (!known) {
    var option = document.createElement("option");
    option.value = zone;
    option.textContent = zone.replace(/_/g, " ");
    select.insertBefore(option, select.firstChild);
  }
  select.value = zone;
  var note = document.getElementById("timezone-detected");
  if (note) note.hidden = false;
})();
