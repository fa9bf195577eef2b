import { createRouter, createWebHashHistory } from 'vue-router';
import PodcastsView from './views/PodcastsView.vue';
import StatusView from './views/StatusView.vue';
import ModelsView from './views/ModelsView.vue';
import TranscriptView from './views/TranscriptView.vue';
import InsightsView from './views/InsightsView.vue';
import SearchView from './views/SearchView.vue';
import EntitiesView from './views/EntitiesView.vue';
import GraphView from './views/GraphView.vue';

// Hash history: the same URLs work from a file:// page in Electron and from `earshot serve`.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'podcasts', component: PodcastsView },
    {
      path: '/episodes/:id(\\d+)/transcript',
      name: 'transcript',
      component: TranscriptView,
      props: true,
      // Part of the podcasts section: its nav link stays lit.
      meta: { section: 'podcasts' },
    },
    {
      path: '/episodes/:id(\\d+)/insights',
      name: 'insights',
      component: InsightsView,
      props: true,
      meta: { section: 'podcasts' },
    },
    {
      path: '/episodes/:id(\\d+)/graph',
      name: 'episode-graph',
      component: GraphView,
      props: true,
      meta: { section: 'podcasts' },
    },
    { path: '/search', name: 'search', component: SearchView },
    {
      // One record with or without an entity chosen, so the list and its filters stay as they are.
      path: '/entities/:id(\\d+)?',
      name: 'entities',
      component: EntitiesView,
      props: true,
      meta: { section: 'entities' },
    },
    // The library's graph; ?entity=ID puts one entity in focus.
    { path: '/graph', name: 'graph', component: GraphView, meta: { section: 'graph' } },
    { path: '/models', name: 'models', component: ModelsView },
    { path: '/status', name: 'status', component: StatusView },
  ],
});
