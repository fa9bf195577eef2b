import { createRouter, createWebHashHistory } from 'vue-router';
import PodcastsView from './views/PodcastsView.vue';

// The first screen is in the main bundle; the others load when first opened (their code, and
// what only they use, such as the show notes' sanitizer, is not parsed before the app is usable).
const InboxView = () => import('./views/InboxView.vue');
const EpisodeView = () => import('./views/EpisodeView.vue');
const EpisodeNotesView = () => import('./views/EpisodeNotesView.vue');
const TranscriptView = () => import('./views/TranscriptView.vue');
const InsightsView = () => import('./views/InsightsView.vue');
const SearchView = () => import('./views/SearchView.vue');
const EntitiesView = () => import('./views/EntitiesView.vue');
const ModelsView = () => import('./views/ModelsView.vue');
const ActivityView = () => import('./views/ActivityView.vue');
const ProblemsView = () => import('./views/ProblemsView.vue');
const DigestView = () => import('./views/DigestView.vue');
const ExportView = () => import('./views/ExportView.vue');
const GraphView = () => import('./views/GraphView.vue');
const SettingsView = () => import('./views/SettingsView.vue');

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
        { path: 'graph', name: 'episode-graph', component: GraphView, props: true },
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
    {
      // The latest digest; this week so far (now); or a stored one by id.
      path: '/digest/:id(\\d+|now)?',
      name: 'digest',
      component: DigestView,
      props: true,
      meta: { section: 'digest' },
    },
    { path: '/export', name: 'export', component: ExportView, meta: { section: 'digest' } },
    // The library's graph; ?entity=ID puts one entity in focus.
    { path: '/graph', name: 'graph', component: GraphView, meta: { section: 'graph' } },
    { path: '/models', name: 'models', component: ModelsView },
    { path: '/activity', name: 'activity', component: ActivityView },
    { path: '/problems', name: 'problems', component: ProblemsView },
    // The Status screen became Activity (and its dead letters Problems).
    { path: '/status', redirect: '/activity' },
    { path: '/settings', name: 'settings', component: SettingsView },
  ],
});
