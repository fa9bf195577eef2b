import { createRouter, createWebHashHistory } from 'vue-router';
import PodcastsView from './views/PodcastsView.vue';
import StatusView from './views/StatusView.vue';
import ModelsView from './views/ModelsView.vue';
import EpisodeView from './views/EpisodeView.vue';
import EpisodeNotesView from './views/EpisodeNotesView.vue';
import TranscriptView from './views/TranscriptView.vue';
import InsightsView from './views/InsightsView.vue';
import SearchView from './views/SearchView.vue';
import EntitiesView from './views/EntitiesView.vue';
import InboxView from './views/InboxView.vue';

// Hash history: the same URLs work from a file:// page in Electron and from `earshot serve`.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'podcasts', component: PodcastsView },
    { path: '/inbox', name: 'inbox', component: InboxView },
    {
      // One episode: its header and tabs stay while the tab below changes. Part of the podcasts
      // section: its nav link stays lit.
      path: '/episodes/:id(\\d+)',
      component: EpisodeView,
      props: true,
      meta: { section: 'podcasts' },
      children: [
        { path: '', name: 'episode', component: EpisodeNotesView, props: true },
        { path: 'transcript', name: 'transcript', component: TranscriptView, props: true },
        { path: 'insights', name: 'insights', component: InsightsView, props: true },
      ],
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
    { path: '/models', name: 'models', component: ModelsView },
    { path: '/status', name: 'status', component: StatusView },
  ],
});
