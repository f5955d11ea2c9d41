// Template editor: an error in the summary selects its line in its field; a variable button puts its text at the cursor of the field last edited (the
// first one at the start), then fires `change`, so htmx refreshes the preview.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) { return; }
  var last = form.querySelector("textarea");
  form.addEventListener("focusin", function (event) {
    if (event.target.tagName === "TEXTAREA") { last = event.target; }
  });
  document.querySelectorAll("#error-summary a[data-line]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { return; }
      event.preventDefault();
      var lines = field.value.split("\n"), line = Number(link.getAttribute("data-line")) - 1;
      var start = lines.slice(0, line).reduce(function (sum, text) { return sum + text.length + 1; }, 0);
      field.focus();
      field.setSelectionRange(start, start + (lines[line] || "").length);
    });
  });
  document.querySelectorAll("[data-insert]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!last || last.readOnly) { return; }
      var text = button.getAttribute("data-insert");
      var start = last.selectionStart, end = last.selectionEnd;
      last.setRangeText(text, start, end, "end");
      last.focus();
      last.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });
})();
