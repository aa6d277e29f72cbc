using VirtTools.Diagnostics;

namespace VirtTools.Config;

/// <summary>
/// The boundary around one profile item being planned or applied. Engines promise a VirtToolsException when they
/// fail, and sync and the agent record that failure against the item, back off and go on with the others; anything
/// else would end the pass, and the agent with it. So anything else becomes a VirtToolsException naming the item.
/// Only the caller's own cancellation passes through.
/// </summary>
internal static class ApplierBoundary
{
    public static void Run(string action, object? target, CancellationToken cancellation, Action apply) =>
        Run(action, target, cancellation, () => { apply(); return true; });

    public static T Run<T>(string action, object? target, CancellationToken cancellation, Func<T> apply)
    {
        try
        {
            return apply();
        }
        catch (Exception e) when (e is not VirtToolsException && !(e is OperationCanceledException && cancellation.IsCancellationRequested))
        {
            throw ConfigErrors.UnexpectedFailure(action, target, e);
        }
    }
}
