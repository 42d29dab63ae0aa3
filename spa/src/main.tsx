import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { isProblem } from './api/client';
import { App } from './App';
import { SessionProvider } from './auth/session';
import { applyTheme, initialTheme } from './lib/theme';
import './styles/global.css';

applyTheme(initialTheme());

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A problem the server stated (4xx) will not go away by asking again; a lost connection may.
      retry: (count, error) => count < 2 && (!isProblem(error) || error.status === 0 || error.status >= 500),
      refetchOnWindowFocus: true,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <SessionProvider>
          <App />
        </SessionProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
