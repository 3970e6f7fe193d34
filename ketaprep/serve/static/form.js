// ketaprep serve: two small helps; every page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // "Length" is asked only for a set whose length varies.
  var set = document.getElementById("set");
  var length = document.getElementById("length-field");
  if (set && length) {
    set.addEventListener("change", function () {
      var option = set.options[set.selectedIndex];
      length.hidden = !(option && option.dataset.variable === "true");
    });
  }
  // "Print" prints the handout shown beside the form (without script it opens the sheet alone).
  var print = document.getElementById("print-button");
  var frame = document.getElementById("handout-frame");
  if (print && frame && frame.contentWindow) {
    print.addEventListener("click", function (event) {
      event.preventDefault();
      frame.contentWindow.focus();
      frame.contentWindow.print();
    });
  }
});
