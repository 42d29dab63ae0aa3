// A problem the API named a field for, shown under that field (the input points at it with
// aria-describedby).
export function FieldProblem({ id, text }: { id: string; text: string | undefined }) {
  if (!text) return null;
  return (
    <div id={id} className="field-problem" role="alert">
      {text}
    </div>
  );
}
