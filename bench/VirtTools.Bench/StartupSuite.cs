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

        var virttools = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "obj", "out", "virttools");
        virttools = File.Exists(virttools) ? Path.GetFullPath(virttools) : Path.Combine(BenchOptions.RepositoryRoot, "out", "virttools");
        int runs = Options.Quick ? 2 : 7;
        var getVirtHost = Process(virttools, runs, "-c", "Get-VirtHost");
        Report.Add(new Row(Name, "`virttools -c Get-VirtHost`, whole process", getVirtHost is null ? "failed" : Timing.Milliseconds(getVirtHost.Median), "", "", "live /sys; Release host"));
        Compare(virttools, runs, "Get-UsbDevice", "usbip list -l", "/usr/sbin/usbip", new[] { "list", "-l" },
            "this VM has no USB bus: both list nothing, so this is start-up cost");
        Compare(virttools, runs, "Get-PciDevice", "lspci", "lspci", Array.Empty<string>(), "live /sys/bus/pci");
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
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}.");
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
