// Draws every chart of a page (or of content swapped in by htmx) with the local plotly.js.
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined" || !root.querySelectorAll) return;
    root.querySelectorAll("figure.chart:not([data-ready])").forEach(function (fig) {
      var spec = fig.querySelector("script[type='application/json']");
      var target = fig.querySelector(".plot");
      if (!spec || !target) return;
      var figure = JSON.parse(spec.textContent);
      var layout = Object.assign(
        { autosize: true, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" },
        figure.layout
      );
      Plotly.newPlot(target, figure.data, layout, {
        responsive: true, displaylogo: false, displayModeBar: false
      });
      fig.setAttribute("data-ready", "1");
    });
  }
  function start() {
    if (window.htmx) window.htmx.onLoad(draw);
    draw(document);
    // <select data-navigate="/twin?scenario="> loads that URL with the chosen value (the CSP
    // forbids inline onchange handlers).
    document.addEventListener("change", function (e) {
      var el = e.target;
      if (el && el.matches && el.matches("select[data-navigate]")) {
        window.location = el.getAttribute("data-navigate") + encodeURIComponent(el.value);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
