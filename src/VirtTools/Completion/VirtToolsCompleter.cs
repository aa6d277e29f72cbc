using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Completion;

/// <summary>
/// What every VirtTools argument completer shares: find the root the command will read, ask the engine for the
/// values that exist there, keep those that start with the word typed. A completer must never throw (it would
/// break the user's Tab key), so any failure reading the root offers nothing.
/// </summary>
public abstract class VirtToolsCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName,
        string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        try
        {
            if (CompletionRoot.From(fakeBoundParameters) is not { } root) return Array.Empty<CompletionResult>();
            var word = new CompletionWord(wordToComplete);
            return Candidates(root).Where(word.Matches).Select(word.Complete).ToList();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
    }

    /// <summary>Every value that exists under the root, in the order the menu should show them.</summary>
    protected abstract IEnumerable<CompletionCandidate> Candidates(SystemRoot root);
}
