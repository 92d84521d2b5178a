import { useId, useState } from 'react';
import type { OpenDialogRequest } from '../../../shared/contract';
import { errorInfo } from '../lib/apiErrors';
import { Icon } from './Icon';

/**
 * A path typed or pasted by the user (network shares, tests), with an optional native "Browse…" dialog beside it.
 * Where the transport has no dialog it resolves to [] and the text field stays the way in.
 */
export function PathField({
  label,
  value,
  onChange,
  dialog,
  placeholder,
  testId,
  multiline = false,
  onSubmit,
  disabled = false,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  dialog?: OpenDialogRequest;
  placeholder?: string;
  testId?: string;
  multiline?: boolean;
  onSubmit?: () => void;
  disabled?: boolean;
}) {
  const id = useId();
  const [note, setNote] = useState<string | null>(null);

  const browse = async (): Promise<void> => {
    if (!dialog) return;
    setNote(null);
    try {
      const paths = await window.api.app.openDialog(dialog);
      if (paths.length > 0) onChange(paths.join('\n'));
      else setNote('No file chosen. You can also type or paste a path.');
    } catch (e) {
      setNote(errorInfo(e).message);
    }
  };

  return (
    <div className="path-field">
      <label htmlFor={id}>{label}</label>
      <div className="path-field-row">
        {multiline ? (
          <textarea
            id={id}
            rows={Math.min(4, Math.max(1, value.split('\n').length))}
            value={value}
            placeholder={placeholder}
            spellCheck={false}
            disabled={disabled}
            data-testid={testId}
            onChange={(e) => onChange(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && onSubmit) {
                e.preventDefault();
                onSubmit();
              }
            }}
          />
        ) : (
          <input
            id={id}
            type="text"
            value={value}
            placeholder={placeholder}
            spellCheck={false}
            disabled={disabled}
            data-testid={testId}
            onChange={(e) => onChange(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && onSubmit) {
                e.preventDefault();
                onSubmit();
              }
            }}
          />
        )}
        {dialog ? (
          <button type="button" className="btn" onClick={() => void browse()} disabled={disabled}>
            <Icon name={dialog.kind === 'folder' ? 'folder' : 'file'} /> Browse…
          </button>
        ) : null}
      </div>
      {note ? <span className="field-note">{note}</span> : null}
    </div>
  );
}
