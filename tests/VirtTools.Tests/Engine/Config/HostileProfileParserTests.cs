using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// The engine's side of the hostile-profile suite: every hostile file is a VirtToolsException with its ErrorId and
/// position, within a deadline generous for a loaded CI machine (the figure is in bench/RESULTS.md) and in bounded
/// memory; the limits themselves are exact, and a profile within them reads as before.
/// </summary>
public sealed class HostileProfileParserTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Bytes a rejection may allocate: the read buffer (256 KiB at most), the text (100,000 "{a: " is 800 KB as UTF-16) and the
    /// parser's first levels. The 50 MB and 300 MB files read whole would allocate their size at least.
    /// </summary>
    private const long AllocationBound = 16L << 20;

    private readonly TemporaryTree _files = new("hostile-profiles");

    public static TheoryData<string> Cases => new(HostileProfile.All.Select(p => p.Name));

    private static (T Result, long Allocated) Measured<T>(Func<T> work)
    {
        var task = Task.Run(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var result = work();
            return (result, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        Assert.True(task.Wait(Deadline), $"still running after {Deadline.TotalSeconds} s");
        return task.Result;
    }

    private static (VirtToolsException Failure, long Allocated) Rejection(Action read)
    {
        var (error, allocated) = Measured(() => Record.Exception(read));
        return (Assert.IsType<VirtToolsException>(error), allocated);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_hostile_profile_is_rejected_with_its_error_id_and_position_in_bounded_time_and_memory(string name)
    {
        var profile = HostileProfile.Named(name);
        var path = Path.Combine(_files.Path, "host.yaml");
        profile.Write(path);

        var (failure, allocated) = Rejection(() => VirtHostConfigParser.Load(path));

        Assert.Equal(profile.ErrorId, failure.ErrorId);
        Assert.Contains(profile.Position(path), failure.Message);
        Assert.Equal(path, failure.Target);
        Assert.DoesNotContain("Operation is not valid", failure.Message);
        Assert.True(allocated < AllocationBound, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void A_file_longer_than_its_size_says_is_read_only_one_byte_past_the_limit()
    {
        // /dev/zero reports a size of 0 and never ends: what a file still being written looks like, at its worst.
        var (failure, allocated) = Rejection(() => VirtHostConfigParser.Load("/dev/zero"));

        Assert.Equal((ConfigErrors.TooLargeId, FailureKind.LimitExceeded), (failure.ErrorId, failure.Kind));
        Assert.Contains($"/dev/zero: more than the {ProfileLimits.MaxBytes:N0} bytes", failure.Message);
        // the limit read into a growing buffer: a few MB at most, where reading the device whole would never end
        Assert.True(allocated < 8L << 20, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void Text_longer_than_the_limit_is_rejected_before_it_is_parsed()
    {
        var failure = Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse(new string('#', ProfileLimits.MaxBytes + 1), "host.yaml"));
        Assert.Equal(ConfigErrors.TooLargeId, failure.ErrorId);
    }

    [Fact]
    public void The_limits_are_exact_a_profile_at_them_is_judged_by_the_schema_alone()
    {
        var depth = ProfileLimits.MaxDepth - 1; // the profile's own mapping is the first level
        var deepest = Assert.Throws<VirtToolsException>(() =>
            VirtHostConfigParser.Parse("ksm: " + new string('[', depth) + new string(']', depth) + "\n", "host.yaml"));
        Assert.Equal(ConfigErrors.InvalidId, deepest.ErrorId);
        Assert.Contains("host.yaml:1:6: ksm must be a mapping", deepest.Message);

        var aliases = Assert.Throws<VirtToolsException>(() =>
            VirtHostConfigParser.Parse("ksm: &k {run: Run}\nusbip: [" + string.Join(", ", Enumerable.Repeat("*k", ProfileLimits.MaxAliases)) + "]\n", "host.yaml"));
        Assert.Equal(ConfigErrors.InvalidId, aliases.ErrorId);
        Assert.Contains("host.yaml:2:8: usbip must be a mapping", aliases.Message);
    }

    [Fact]
    public void A_profile_that_reuses_a_match_through_an_alias_reads_as_before()
    {
        var config = VirtHostConfigParser.Parse(
            "usbip:\n  exports:\n    - match: &lab {vendorId: \"46f4\", productId: \"0001\"}\n  attachments:\n    - computerName: 10.0.0.1\n      match: *lab\n",
            "host.yaml");
        Assert.Equal(("46f4", "0001"), (config.UsbIp!.Attachments[0].Match.VendorId, config.UsbIp.Attachments[0].Match.ProductId));
    }

    [Fact]
    public void An_alias_with_no_anchor_and_a_duplicate_key_are_named_where_they_stand()
    {
        Assert.Contains("host.yaml:1:6: *nope names no &nope above it", Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse("ksm: *nope\n", "host.yaml")).Message);
        Assert.Contains("host.yaml:2:1: Duplicate key ksm", Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse("ksm: {run: Run}\nksm: {run: Stop}\n", "host.yaml")).Message);
    }

    [Fact]
    public void A_cancelled_read_stops_with_OperationCanceledException()
    {
        Assert.Throws<OperationCanceledException>(() => VirtHostConfigParser.Parse("ksm: {run: Run}\n", "host.yaml", "/", new CancellationToken(canceled: true)));
    }

    public void Dispose() => _files.Dispose();
}
