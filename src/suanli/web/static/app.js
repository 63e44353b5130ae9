// Draws every chart of a page (or of content swapped in by htmx) with the local plotly.js.
(function () {
  "use strict";
  // A long title on a phone: break it into lines that fit (plotly never wraps a title).
  function wrap(text, width) {
    var lines = [], line = "";
    String(text).split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
      else line = line ? line + " " + word : word;
    });
    if (line) lines.push(line);
    return lines;
  }
  // Narrow plots (a phone, < 560 px): wrapped title, tighter side margins, the legend at the
  // bottom of the figure (below the axis title instead of over it).
  function fitNarrow(layout, width) {
    if (width >= 560) return layout;
    var out = Object.assign({}, layout);
    var t = out.title && out.title.text;
    if (t) {
      var lines = wrap(t, Math.max(20, Math.floor(width / 8.5)));
      out.title = Object.assign({}, out.title, { text: lines.join("<br>"), font: { size: 13 } });
      out.margin = Object.assign({}, out.margin, { t: 24 + 17 * lines.length, l: 48, r: 10 });
    }
    if (out.legend) {
      out.legend = Object.assign({}, out.legend, { y: 0, yref: "container", yanchor: "bottom" });
    }
    return out;
  }
  // Dates on Chinese pages: month names and the modebar in Chinese (plotly.js-dist-min ships
  // no locale but English, so the few strings the charts show are registered here).
  var LOCALE = document.documentElement.lang === "zh" ? "zh-CN" : "en";
  var zhRegistered = false;
  function registerZh() {
    if (zhRegistered || LOCALE !== "zh-CN") return;
    var months = [];
    for (var m = 1; m <= 12; m++) months.push(m + "月");
    Plotly.register({
      moduleType: "locale", name: "zh-CN",
      dictionary: { "Autoscale": "自动缩放", "Reset axes": "重置坐标轴",
        "Download plot as a png": "下载为 PNG", "Zoom in": "放大", "Zoom out": "缩小" },
      format: {
        days: ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
        shortDays: ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
        months: months, shortMonths: months, date: "%Y-%m-%d"
      }
    });
    zhRegistered = true;
  }
  function draw(root) {
    if (typeof Plotly === "undefined" || !root.querySelectorAll) return;
    registerZh();
    root.querySelectorAll("figure.chart:not([data-ready])").forEach(function (fig) {
      var spec = fig.querySelector("script[type='application/json']");
      var target = fig.querySelector(".plot");
      if (!spec || !target) return;
      var figure = JSON.parse(spec.textContent);
      var layout = Object.assign(
        { autosize: true, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)" },
        figure.layout
      );
      layout = fitNarrow(layout, target.clientWidth || 0);
      Plotly.newPlot(target, figure.data, layout, {
        responsive: true, displaylogo: false, displayModeBar: false, locale: LOCALE
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
