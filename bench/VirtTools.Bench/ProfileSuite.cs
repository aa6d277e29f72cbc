using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Tests.Engine.Config;

namespace VirtTools.Bench;

/// <summary>
/// How long the bounded profile reader takes to refuse each hostile profile of issue 14 (goal: within a second, in
/// bounded memory), with the captured host's own profile as the cost of a good read. The cases are the test suite's
/// (tests/VirtTools.Tests/Engine/Config/HostileProfiles.cs, compiled in), so the bench measures exactly what is tested.
/// </summary>
public sealed class ProfileSuite : BenchSuite
{
    public const string Name = "profile";

    public ProfileSuite(BenchOptions options, Report report) : base(options, report) { }

    public override void Run()
    {
        var folder = Path.Combine(Options.WorkFolder, "profiles");
        Directory.CreateDirectory(folder);
        var runs = Options.Quick ? 1 : 5;
        var good = Path.Combine(BenchOptions.RepositoryRoot, "tests", "VirtTools.Tests", "Assets", "captured-host.yaml");
        var (read, readBytes) = Measure(() => VirtHostConfigParser.Load(good), runs);
        Report.Add(new Row(Name, $"read the captured host's profile ({new FileInfo(good).Length:N0} bytes)", Timing.Milliseconds(read.Median), "", "",
            $"{Kilobytes(readBytes)} allocated"));
        var largest = Path.Combine(folder, "largest.yaml");
        var exports = WriteLargestAccepted(largest);
        var (worst, worstBytes) = Measure(() => VirtHostConfigParser.Load(largest), runs);
        File.Delete(largest);
        Report.Add(new Row(Name, $"read the largest profile the limits let through ({exports:N0} exports, each line padded by a comment to the size limit)",
            Timing.Milliseconds(worst.Median), "goal: within 1 s", "", $"max {Timing.Milliseconds(worst.Max)}; {Kilobytes(worstBytes)} allocated"));
        foreach (var profile in HostileProfile.All.Where(p => Options.Selects(Name, p.Name)))
        {
            var path = Path.Combine(folder, "host.yaml");
            profile.Write(path);
            string? errorId = null;
            var (samples, allocated) = Measure(() =>
            {
                try { VirtHostConfigParser.Load(path); }
                catch (VirtToolsException failure) { errorId = failure.ErrorId; }
            }, runs);
            File.Delete(path);
            Report.Add(new Row(Name, $"reject: {profile.Name} ({profile.ErrorId})", Timing.Milliseconds(samples.Median), "goal: within 1 s", "",
                errorId == profile.ErrorId ? $"max {Timing.Milliseconds(samples.Max)}; {Kilobytes(allocated)} allocated" : $"NOT REJECTED AS {profile.ErrorId}: {errorId ?? "accepted"}"));
        }
    }

    /// <summary>
    /// As many exports as <see cref="ProfileLimits.MaxNodes"/> allows (5 values above them, 7 in each), every line
    /// padded with a comment so the file is as close to <see cref="ProfileLimits.MaxBytes"/> as it may be.
    /// </summary>
    private static int WriteLargestAccepted(string path)
    {
        var exports = (ProfileLimits.MaxNodes - 5) / 7;
        const string export = "    - match: {vendorId: \"46f4\", productId: \"0001\"} # ";
        var padding = (ProfileLimits.MaxBytes - 20) / exports - export.Length - 1;
        using var file = new StreamWriter(path);
        file.Write("usbip:\n  exports:\n");
        for (var i = 0; i < exports; i++) file.Write(export + new string('x', padding) + "\n");
        return exports;
    }

    /// <summary>The samples, and the bytes the last run allocated on this thread.</summary>
    private static (Samples Samples, long Allocated) Measure(Action read, int runs)
    {
        var samples = Timing.Measure(read, runs);
        var before = GC.GetAllocatedBytesForCurrentThread();
        read();
        return (samples, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static string Kilobytes(long bytes) => $"{bytes / 1024.0:N0} KB";
}
