using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Ids;
using VirtTools.Sysfs;

namespace VirtTools.Commands;

/// <summary>
/// What every VirtTools cmdlet shares: -Root, a cancellation token that Ctrl+C cancels, and the one way an
/// engine failure becomes an ErrorRecord. Derived cmdlets bind parameters, call the engine, write results.
/// </summary>
public abstract class VirtToolsCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stopping = new();
    private SystemRoot? _root;

    /// <summary>The filesystem root that /sys, /proc, /dev, /run and /etc are read under.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Root { get; set; }

    /// <summary>-Root, else $env:VIRTTOOLS_ROOT, else "/". Re-read per record: piped objects carry their own Root.</summary>
    protected SystemRoot SystemRoot
    {
        get
        {
            var wanted = string.IsNullOrEmpty(Root) ? null : GetUnresolvedProviderPathFromPSPath(Root);
            if (_root is null || (wanted is not null && _root.Path != System.IO.Path.GetFullPath(wanted).TrimEnd('/')))
                _root = SystemRoot.FromParameter(wanted);
            return _root;
        }
    }

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline is stopped.</summary>
    protected CancellationToken Cancellation => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    protected override void EndProcessing() => _stopping.Dispose();

    /// <summary>Writes a non-terminating error for one input item.</summary>
    protected void WriteFailure(VirtToolsException failure, object? target = null) =>
        WriteError(ErrorRecords.From(failure, target));

    /// <summary>Stops the cmdlet: nothing else can work (not root, a module missing, a bad root).</summary>
    protected void ThrowFailure(VirtToolsException failure, object? target = null) =>
        ThrowTerminatingError(ErrorRecords.From(failure, target));

    private bool _warnedNamesMissing;

    /// <summary>Says once per command that names are empty because no ids file was found, and which one to install.</summary>
    protected void WarnIfNamesMissing(string? nameSource, string idsFile)
    {
        if (nameSource is not null || _warnedNamesMissing) return;
        _warnedNamesMissing = true;
        WriteWarning(IdsDatabase.MissingWarning(idsFile, SystemRoot));
    }

    /// <summary>Fails the whole command when -Root names a folder that does not exist.</summary>
    protected void RequireRoot()
    {
        var root = SystemRoot;
        if (!root.IsLive && !Directory.Exists(root.Path))
            ThrowFailure(new VirtToolsException(SysfsErrors.RootNotFoundId, FailureKind.NotFound,
                $"The root folder '{root.Path}' does not exist.",
                "Give -Root (or $env:VIRTTOOLS_ROOT) the folder that holds the captured sys/, proc/ and dev/ trees.", root.Path), Root);
    }
}
