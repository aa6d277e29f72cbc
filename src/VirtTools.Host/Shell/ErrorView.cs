using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace VirtTools.Host.Shell;

/// <summary>
/// How the host prints an error: the command and message, the category and ErrorId, and the Fix: a VirtTools
/// error recommends. It is the format view of ErrorRecord in every <see cref="ShellSession"/>, so Out-Default prints
/// each error where it happened in the stream, between the objects written before and after it.
/// </summary>
public static class ErrorView
{
    public static string Describe(ErrorRecord record)
    {
        var command = record.InvocationInfo?.MyCommand?.Name;
        var message = record.ErrorDetails?.Message ?? record.Exception?.Message ?? record.ToString();
        var text = string.IsNullOrEmpty(command) ? message : $"{command}: {message}";
        text += $"\n  {record.CategoryInfo.Category}: {record.FullyQualifiedErrorId}";
        if (record.ErrorDetails?.RecommendedAction is { Length: > 0 } action) text += $"\n  Fix: {action}";
        return text;
    }

    /// <summary>The view, first in the format table so it wins over PowerShell's own ErrorRecord views.</summary>
    internal static SessionStateFormatEntry FormatEntry { get; } = new(new ExtendedTypeDefinition(typeof(ErrorRecord).FullName,
        new[]
        {
            new FormatViewDefinition("VirtToolsError", CustomControl.Create(outOfBand: true)
                .StartEntry().AddScriptBlockExpressionBinding($"[{typeof(ErrorView).FullName}]::{nameof(Describe)}($_)").EndEntry()
                .EndControl()),
        }));
}
