using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace VirtTools.Host.Shell;

/// <summary>
/// What a script produced: its output objects, the errors it wrote, whether it stopped on one, and whether
/// <see cref="ShellSession.Stop"/> (Ctrl+C) ended it before it finished.
/// </summary>
public sealed record ShellResult(Collection<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, RuntimeException? Terminating, bool Stopped = false)
{
    public bool Succeeded => Errors.Count == 0 && Terminating is null && !Stopped;
}

/// <summary>
/// A runspace with the VirtTools module imported, driven through a <see cref="TextHost"/>.
/// The executable and the tests run scripts the same way.
/// </summary>
public sealed class ShellSession : IDisposable
{
    private readonly Runspace _runspace;
    private readonly object _stateLock = new();
    private PowerShell? _current;
    private bool _stopping;

    /// <summary>
    /// An embedded engine sends no telemetry (PowerShell's own reports module loads from any host unless opted out);
    /// a person who set the variable keeps their choice.
    /// </summary>
    static ShellSession()
    {
        if (Environment.GetEnvironmentVariable(TelemetryOptOut) is null) Environment.SetEnvironmentVariable(TelemetryOptOut, "1");
    }

    private const string TelemetryOptOut = "POWERSHELL_TELEMETRY_OPTOUT";

    public ShellSession(TextHost host, string? manifestPath = null)
    {
        Host = host;
        // Do not set an execution policy: on Linux, Open() throws PlatformNotSupportedException for it.
        var state = InitialSessionState.CreateDefault2();
        var formats = state.Formats.ToArray();
        state.Formats.Clear();
        state.Formats.Add(ErrorView.FormatEntry);
        state.Formats.Add(formats);
        // pwsh's help pipes to less; with no terminal to page on it would only get in the way of the host's writer.
        if (!host.IsTerminal) state.Commands.Add(new SessionStateFunctionEntry("help", "Get-Help @args"));
        _runspace = RunspaceFactory.CreateRunspace(host, state);
        _runspace.Open();
        ManifestPath = manifestPath ?? DefaultManifestPath;
        var import = Run("param($manifest) Import-Module $manifest -ErrorAction Stop", new Dictionary<string, object?> { ["manifest"] = ManifestPath });
        if (!import.Succeeded)
            throw new InvalidOperationException($"Cannot import {ManifestPath}: {import.Terminating?.Message ?? import.Errors[0].ToString()}");
    }

    /// <summary>
    /// The module shipped with the executable: in the VirtTools/ subfolder of a self-contained publish, else beside it.
    /// A published host is its own $PSHOME, and PowerShell cannot load the format file of a manifest that sits directly
    /// in $PSHOME on Linux (it opens "$PSHOME\VirtTools.format.ps1xml", with a backslash).
    /// </summary>
    public static string DefaultManifestPath
    {
        get
        {
            var published = Path.Combine(AppContext.BaseDirectory, "VirtTools", "VirtTools.psd1");
            return File.Exists(published) ? published : Path.Combine(AppContext.BaseDirectory, "VirtTools.psd1");
        }
    }

    public TextHost Host { get; }

    public string ManifestPath { get; }

    public Runspace Runspace => _runspace;

    /// <summary>
    /// Runs a script; with <paramref name="render"/>, its output and its errors go through Out-Default to the host in
    /// the order they were written, as pwsh prints them (errors in <see cref="ErrorView"/>), and an error that stops
    /// the script is printed after what it had output, which Out-Default would otherwise drop unprinted.
    /// </summary>
    public ShellResult Run(string script, IDictionary<string, object?>? parameters = null, bool render = false)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = _runspace;
        var rendered = new List<ErrorRecord>();
        if (render)
        {
            try
            {
                ps.AddScript(RunToTheEnd).AddParameter("VirtToolsScript", ScriptBlock.Create(script))
                    .AddParameter("VirtToolsParameters", new Dictionary<string, object?>(parameters ?? new Dictionary<string, object?>()));
            }
            catch (ParseException e)
            {
                return new ShellResult(new Collection<PSObject>(), rendered, e);
            }
            ps.AddScript(CollectErrors, useLocalScope: true).AddParameter("errors", rendered);
            ps.Commands.Commands[^1].MergeUnclaimedPreviousCommandResults = PipelineResultTypes.Error | PipelineResultTypes.Output;
            ps.AddCommand("Out-Default");
        }
        else
        {
            ps.AddScript(script);
            foreach (var (name, value) in parameters ?? new Dictionary<string, object?>()) ps.AddParameter(name, value);
        }
        return Invoke(ps, render ? rendered : null);
    }

    /// <summary>
    /// Runs a script file with its command-line arguments, as `pwsh -File` does: "-Name" tokens name parameters
    /// (or set switches), everything else is a literal value.
    /// </summary>
    public ShellResult RunFile(string path, IEnumerable<string> arguments, bool render = false) =>
        Run("& " + string.Join(' ', new[] { Path.GetFullPath(path) }.Concat(arguments).Select((a, i) => i > 0 && IsParameterName(a) ? a : Quote(a))), render: render);

    private static bool IsParameterName(string token) =>
        System.Text.RegularExpressions.Regex.IsMatch(token, @"^-[A-Za-z_][A-Za-z0-9_]*:?$");

    private static string Quote(string literal) => "'" + literal.Replace("'", "''") + "'";

    /// <summary>
    /// Stops the running script as Ctrl+C does in pwsh: every command in it gets StopProcessing (VirtTools cmdlets cancel
    /// and roll back) and its Run returns when it has stopped. This call does not wait for that. No script runs in
    /// this session afterwards.
    /// </summary>
    public void Stop()
    {
        PowerShell? current;
        lock (_stateLock)
        {
            _stopping = true;
            current = _current;
        }
        current?.BeginStop(null, null);
    }

    private ShellResult Invoke(PowerShell ps, List<ErrorRecord>? rendered)
    {
        lock (_stateLock)
        {
            if (_stopping) return new ShellResult(new Collection<PSObject>(), Array.Empty<ErrorRecord>(), null, Stopped: true);
            _current = ps;
        }
        Collection<PSObject> output;
        RuntimeException? terminating = null;
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            output = new Collection<PSObject>();
            terminating = e;
        }
        finally
        {
            lock (_stateLock) _current = null;
        }
        return new ShellResult(output, rendered ?? ps.Streams.Error.ToList(), terminating,
            Stopped: ps.InvocationStateInfo.State == PSInvocationState.Stopped);
    }

    /// <summary>
    /// The script, dot-sourced so it runs in the global scope as `pwsh -c` runs it (hence parameter names no script
    /// would use); an error that stops it goes down the pipeline like the others (Ctrl+C and exit are not caught:
    /// they are not errors).
    /// </summary>
    private const string RunToTheEnd =
        "param($VirtToolsScript, $VirtToolsParameters) try { . $VirtToolsScript @VirtToolsParameters } catch { Write-Error -ErrorRecord $_ -ErrorAction Continue }";

    /// <summary>
    /// Between the script and Out-Default, which prints every ErrorRecord it gets as an error: notes each one (the
    /// errors the script wrote, merged into its output) and passes everything on.
    /// </summary>
    private const string CollectErrors =
        "param($errors) process { if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) }; $_ }";

    public void Dispose() => _runspace.Dispose();
}
