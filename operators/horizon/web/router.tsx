/** Paths of the single page under /dashboard, moved through with the History API (no reloads). */
import { useEffect, useState, type ReactNode } from 'react';
import { BASE } from './api';

export function usePath(): string {
  const [path, setPath] = useState(() => location.pathname.slice(BASE.length) || '/');
  useEffect(() => {
    const on = () => setPath(location.pathname.slice(BASE.length) || '/');
    window.addEventListener('popstate', on);
    window.addEventListener('stratus:navigate', on);
    return () => {
      window.removeEventListener('popstate', on);
      window.removeEventListener('stratus:navigate', on);
    };
  }, []);
  return path;
}

export function navigate(path: string): void {
  history.pushState(null, '', `${BASE}${path}`);
  window.dispatchEvent(new Event('stratus:navigate'));
}

export function Link({ to, children }: { to: string; children: ReactNode }) {
  return (
    <a
      href={`${BASE}${to}`}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
