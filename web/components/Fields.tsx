'use client';
/**
 * The dashboard's form fields and filter bar: a label tied to its control, and an error in words
 * tied to it too (aria-describedby, aria-invalid), so every view's inputs read the same to a screen
 * reader and look the same.
 */
import type { ReactNode } from 'react';

/** A bar of filters above a listing; submitting it applies what needs applying. */
export function FilterBar({ onSubmit, children }: { onSubmit?: () => void; children: ReactNode }) {
  const className = 'card mb-4 flex flex-wrap items-end gap-4 p-4';
  if (!onSubmit) return <div className={className}>{children}</div>;
  return (
    <form
      className={className}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

interface FieldProps {
  id: string;
  label: string;
  /** Why the value is not accepted, or nothing. */
  error?: string | null;
  /** The field's box (its width in the row). */
  className?: string;
}

function Labelled({ id, label, error, className, children }: FieldProps & { children: ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id} className="label">
        {label}
      </label>
      {children}
      {error && (
        <p id={`${id}-error`} className="mt-1 text-xs text-red-800">
          {error}
        </p>
      )}
    </div>
  );
}

const errorAttributes = (id: string, error: string | null | undefined) => ({ 'aria-invalid': Boolean(error), 'aria-describedby': error ? `${id}-error` : undefined });

export function TextField({
  value,
  onChange,
  placeholder,
  inputClassName = '',
  inputMode,
  ...field
}: FieldProps & { value: string; onChange: (value: string) => void; placeholder?: string; inputClassName?: string; inputMode?: 'decimal' | 'numeric' }) {
  return (
    <Labelled {...field}>
      <input
        id={field.id}
        className={`input ${inputClassName}`}
        value={value}
        placeholder={placeholder}
        inputMode={inputMode}
        onChange={(e) => onChange(e.target.value)}
        {...errorAttributes(field.id, field.error)}
      />
    </Labelled>
  );
}

export function SelectField({
  value,
  onChange,
  options,
  ...field
}: FieldProps & { value: string; onChange: (value: string) => void; options: readonly { value: string; label: string }[] }) {
  return (
    <Labelled {...field}>
      <select id={field.id} className="input" value={value} onChange={(e) => onChange(e.target.value)} {...errorAttributes(field.id, field.error)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Labelled>
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a text is an id (every id in EventFlow is a UUID). */
export const isId = (text: string) => UUID.test(text.trim());

/** Whether a typed filter can be applied: nothing, or an id. */
export const isIdOrNothing = (text: string) => text.trim() === '' || isId(text);

/** A filter by an order's or a customer's id, which says at once when the text cannot be one. */
export function IdField({ id, noun, value, onChange }: { id: string; noun: 'order' | 'customer'; value: string; onChange: (value: string) => void }) {
  const article = noun === 'order' ? 'An' : 'A';
  return (
    <TextField
      id={id}
      label={`${noun[0]!.toUpperCase()}${noun.slice(1)} id`}
      className="min-w-80 flex-1"
      inputClassName="font-mono"
      value={value}
      placeholder={`a ${noun}'s UUID`}
      error={isIdOrNothing(value) ? null : `${article} ${noun} id is a UUID, like 3f2504e0-4f89-11d3-9a0c-0305e82c3301.`}
      onChange={onChange}
    />
  );
}
