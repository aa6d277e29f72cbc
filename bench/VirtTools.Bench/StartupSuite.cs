using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using VirtTools.Host.Shell;

namespace VirtTools.Bench;

/// <summary>
/// Start-up: Import-Module and the first Get-UsbDevice in a fresh runspace, and whole `virttools -c` processes
/// against the C tools (usbip list -l, lspci) on this machine's live /sys.
/// </summary>
public sealed class StartupSuite : BenchSuite
{
    public const string Name = "startup";


    public StartupSuite(BenchOptions options, Report report) : base(options, report) { }

    public override void Run()
    {
        var fixture = CapturedFixture(Options.WorkFolder);
        // Until Get-UsbDevice is merged, the first command is Get-VirtHost, so the harness still runs.
        var usbCold = ImportAndList(fixture, "Get-UsbDevice");
        var first = usbCold is null ? "Get-VirtHost" : "Get-UsbDevice";
        var cold = usbCold ?? ImportAndList(fixture, first) ?? double.NaN;
        var warm = Timing.Measure(() => ImportAndList(fixture, first), Options.Quick ? 3 : 10, warmups: 0);
        Report.Add(new Row(Name, $"Import-Module + first {first} (captured tree), fresh runspace", $"{Timing.Milliseconds(warm.Median)} warm",
            $"{Timing.Milliseconds(cold)} in the process's first runspace", "", "runspace opening not counted"));

        var benchOut = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "obj");
        var virttools = Path.Combine(benchOut, "out", "virttools");
        virttools = File.Exists(virttools) ? Path.GetFullPath(virttools) : Path.Combine(BenchOptions.RepositoryRoot, "out", "virttools");
        int runs = Options.Quick ? 2 : 7;
        var getVirtHost = Process(virttools, runs, "-c", "Get-VirtHost");
        Report.Add(new Row(Name, "`virttools -c Get-VirtHost`, whole process", getVirtHost is null ? "failed" : Timing.Milliseconds(getVirtHost.Median), "", "", "live /sys; Release host"));
        Compare(virttools, runs, "Get-UsbDevice", "usbip list -l", UsbIp, new[] { "list", "-l" },
            "this VM has no USB bus: both list nothing, so this is start-up cost");
        Compare(virttools, runs, "Get-PciDevice", "lspci", "lspci", Array.Empty<string>(), "live /sys/bus/pci");
        var published = Path.GetFullPath(Path.Combine(benchOut, "publish"));
        WholeProcessAgainstPwshAndUsbIp(Path.Combine(published, "virttools"), Path.GetFullPath(Path.Combine(benchOut, "publish-self-contained", "virttools")), virttools, runs);
        ImportInsideRunningPwsh(fixture, runs, precompiledPwsh: null);
        ImportInsideRunningPwsh(null, runs, precompiledPwsh: null);
        ImportInsideRunningPwsh(null, runs, precompiledPwsh: published);
        AnotherModuleInsideRunningPwsh(runs);
    }

    private const string UsbIp = "/usr/sbin/usbip";

    /// <summary>
    /// The goal of issue 12: a whole `virttools -c Get-PciDevice` (the published, ReadyToRun host) within 3× of
    /// `usbip list -l`, and how it compares with pwsh running the same pipeline after Import-Module.
    /// </summary>
    private void WholeProcessAgainstPwshAndUsbIp(string published, string publishedSelfContained, string jitBuild, int runs)
    {
        var usbip = Process(UsbIp, runs, "list", "-l");
        string AgainstUsbIp(Samples? ours) => ours is null || usbip is null ? "" : $"{Timing.Ratio(ours.Median / usbip.Median)} usbip list -l";
        var usbipFigure = usbip is null ? "usbip list -l: missing or failed (Debian package usbip)" : $"usbip list -l {Timing.Milliseconds(usbip.Median)}";

        var jit = Process(jitBuild, runs, "-c", "Get-PciDevice");
        Report.Add(new Row(Name, "`virttools -c Get-PciDevice`, whole process, `dotnet build` host (JIT)",
            jit is null ? "failed" : Timing.Milliseconds(jit.Median), usbipFigure, AgainstUsbIp(jit), "live /sys/bus/pci; goal: within 3× of usbip list -l"));

        var r2r = File.Exists(published) ? Process(published, runs, "-c", "Get-PciDevice") : null;
        Report.Add(new Row(Name, "`virttools -c Get-PciDevice`, whole process, published host (framework-dependent, ReadyToRun, linux-x64)",
            r2r is null ? "not published (bench build publishes it to obj/publish)" : Timing.Milliseconds(r2r.Median), usbipFigure, AgainstUsbIp(r2r),
            "live /sys/bus/pci; goal: within 3× of usbip list -l"));
        var selfContained = File.Exists(publishedSelfContained) ? Process(publishedSelfContained, runs, "-c", "Get-PciDevice") : null;
        Report.Add(new Row(Name, "`virttools -c Get-PciDevice`, whole process, published host (self-contained, composite ReadyToRun: the README's deploy)",
            selfContained is null ? "not published (bench build publishes it to obj/publish-self-contained)" : Timing.Milliseconds(selfContained.Median),
            usbipFigure, AgainstUsbIp(selfContained), "live /sys/bus/pci; goal: within 3× of usbip list -l"));

        var module = ModuleManifest();
        var pwsh = Pwsh.Command("-NoProfile", "-NonInteractive", "-c", $"Import-Module '{module}'; Get-PciDevice");
        var theirs = pwsh is null ? null : Process(pwsh.Value.Program, runs, pwsh.Value.Arguments);
        Report.Add(new Row(Name, "`pwsh -NoProfile -c 'Import-Module VirtTools; Get-PciDevice'`, whole process",
            theirs is null ? "pwsh 7.6.9 not found (dotnet tool restore)" : Timing.Milliseconds(theirs.Median),
            r2r is null || theirs is null ? "" : $"published virttools {Timing.Milliseconds(r2r.Median)}",
            r2r is null || theirs is null ? "" : $"virttools {Timing.Ratio(theirs.Median / r2r.Median)} faster",
            "pwsh 7.6.9 as the .NET tool (IL, JIT): the same pipeline, same table"));
    }

    /// <summary>
    /// Inside one pwsh process, already running: Import-Module and the first Get-PciDevice, timed by pwsh itself. On the
    /// captured tree (no pci.ids under it) or, with no fixture, on the live /sys, which names each function from pci.ids.
    /// In the pwsh tool (IL), or with <paramref name="precompiledPwsh"/> (the published host's folder) in the same pwsh
    /// with PowerShell's assemblies precompiled (<see cref="Pwsh.PrecompiledCommand"/>).
    /// </summary>
    private void ImportInsideRunningPwsh(string? fixture, int runs, string? precompiledPwsh)
    {
        var root = fixture is null ? "" : $" -Root '{fixture}'";
        var script = $"$clock = [Diagnostics.Stopwatch]::StartNew(); Import-Module '{ModuleManifest()}'; $null = Get-PciDevice{root}; " +
                     "$clock.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture)";
        var which = precompiledPwsh is null ? "pwsh 7.6.9 as the .NET tool (IL, JIT)" : "pwsh 7.6.9 with its assemblies precompiled (ReadyToRun)";
        var samples = TimedInsidePwsh(script, runs, precompiledPwsh);
        Report.Add(new Row(Name, $"Import-Module + first Get-PciDevice ({(fixture is null ? "live /sys, names from pci.ids" : "captured tree, no pci.ids")}) inside a running pwsh",
            samples is null ? "failed (pwsh missing?)" : Timing.Milliseconds(samples.Median), "", "",
            $"{which}; pwsh's first use of the module: what a pwsh user waits once per session; goal under 150 ms"));
    }

    /// <summary>What importing a module costs in the same pwsh whatever the module: Microsoft's ThreadJob (a manifest and one assembly, shipped with pwsh).</summary>
    private void AnotherModuleInsideRunningPwsh(int runs)
    {
        const string script = "$clock = [Diagnostics.Stopwatch]::StartNew(); Import-Module Microsoft.PowerShell.ThreadJob; " +
                              "$clock.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture)";
        var samples = TimedInsidePwsh(script, runs, precompiledPwsh: null);
        Report.Add(new Row(Name, "Import-Module Microsoft.PowerShell.ThreadJob (shipped with pwsh) inside a running pwsh",
            samples is null ? "failed (pwsh missing?)" : Timing.Milliseconds(samples.Median), "", "",
            "pwsh 7.6.9 as the .NET tool (IL, JIT): the floor any binary module with a manifest pays there"));
    }

    /// <summary>Runs a script that prints its own elapsed milliseconds in fresh pwsh processes; null when one fails.</summary>
    private Samples? TimedInsidePwsh(string script, int runs, string? precompiledPwsh)
    {
        var pwsh = precompiledPwsh is null
            ? Pwsh.Command("-NoProfile", "-NonInteractive", "-c", script)
            : Pwsh.PrecompiledCommand(precompiledPwsh, Options.WorkFolder, "-NoProfile", "-NonInteractive", "-c", script);
        var samples = new List<double>();
        for (int i = 0; pwsh is not null && i < runs; i++)
        {
            var (code, output) = RunToEndWithOutput(pwsh.Value.Program, pwsh.Value.Arguments);
            if (code != 0 || !double.TryParse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture, out var ms)) return null;
            samples.Add(ms);
        }
        return samples.Count == runs ? new Samples(samples) : null;
    }

    /// <summary>The module folder users install, as the bench build laid it out (else the repository's out/).</summary>
    private static string ModuleManifest()
    {
        var bench = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "obj", "out", "VirtTools", "VirtTools.psd1"));
        return File.Exists(bench) ? bench : Path.Combine(BenchOptions.RepositoryRoot, "out", "VirtTools", "VirtTools.psd1");
    }

    private void Compare(string virttools, int runs, string cmdlet, string toolName, string tool, string[] toolArguments, string note)
    {
        var ours = Process(virttools, runs, "-c", cmdlet);
        var theirs = Process(tool, runs, toolArguments);
        Report.Add(ours is null || theirs is null
            ? new Row(Name, $"`virttools -c {cmdlet}` vs `{toolName}`", ours is null ? "failed (not merged yet?)" : Timing.Milliseconds(ours.Median),
                theirs is null ? $"{toolName} failed" : $"{toolName} {Timing.Milliseconds(theirs.Median)}", "", note)
            : new Row(Name, $"`virttools -c {cmdlet}` vs `{toolName}`", Timing.Milliseconds(ours.Median),
                $"{toolName} {Timing.Milliseconds(theirs.Median)}", $"{Timing.Ratio(ours.Median / theirs.Median)} slower", note));
    }

    /// <summary>Opens a runspace (not timed), then times Import-Module and the first command in it; null when that fails.</summary>
    private static double? ImportAndList(string fixture, string command)
    {
        using var runspace = RunspaceFactory.CreateRunspace(new TextHost(TextWriter.Null, TextWriter.Null), InitialSessionState.CreateDefault2());
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript($"param($Manifest, $Root) Import-Module $Manifest -ErrorAction Stop; @({command} -Root $Root).Count")
            .AddParameter("Manifest", ShellSession.DefaultManifestPath).AddParameter("Root", fixture);
        var clock = Stopwatch.StartNew();
        var output = ps.Invoke();
        double elapsed = clock.Elapsed.TotalMilliseconds;
        return ps.HadErrors || output.Count != 1 ? null : elapsed;
    }

    /// <summary>Whole-process wall time, output read and dropped; null when the program fails.</summary>
    private static Samples? Process(string program, int runs, params string[] arguments)
    {
        try { return Timing.Measure(() => RunToEnd(program, arguments), runs); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { return null; }
    }

    private static void RunToEnd(string program, string[] arguments)
    {
        var (code, _) = RunToEndWithOutput(program, arguments);
        if (code != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {code}.");
    }

    private static (int Code, string Output) RunToEndWithOutput(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        error.Wait();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    /// <summary>The captured Debian 6.1 tree, extracted once under the work folder.</summary>
    public static string CapturedFixture(string work)
    {
        var root = Path.Combine(work, "captured");
        if (Directory.Exists(Path.Combine(root, "sys"))) return root;
        Directory.CreateDirectory(root);
        // As the tests find it: $VIRTTOOLS_FIXTURE_ARCHIVE, else the copy committed in tests/fixtures.
        var archive = Environment.GetEnvironmentVariable("VIRTTOOLS_FIXTURE_ARCHIVE") is { Length: > 0 } overridden
            ? Path.GetFullPath(overridden)
            : Path.Combine(BenchOptions.RepositoryRoot, "tests", "fixtures", "qemu-debian-6.1-usbip-vfio.tgz");
        if (!File.Exists(archive)) throw new FileNotFoundException($"The captured fixture {archive} was not found.");
        using var tar = System.Diagnostics.Process.Start("tar", new[] { "-xzf", archive, "-C", root })!;
        tar.WaitForExit();
        return root;
    }
}
