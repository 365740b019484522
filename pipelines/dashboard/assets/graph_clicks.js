// Cytoscape measures where its canvas is on the page once, and maps each click with that. When
// anything above the graph changes height (a filter loading, a warning) the canvas moves and
// clicks land beside the nodes. Measuring again as the pointer comes over the graph keeps every
// click on the node under it.
document.addEventListener("pointerover", (event) => {
  const graph = event.target.closest && event.target.closest("#graph");
  if (!graph) return;
  const host = [graph, ...graph.querySelectorAll("*")].find((each) => each._cyreg && each._cyreg.cy);
  if (host) host._cyreg.cy.resize();
}, true);
