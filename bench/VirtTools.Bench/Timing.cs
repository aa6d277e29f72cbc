using System.Diagnostics;

namespace VirtTools.Bench;

/// <summary>Repeated wall-clock samples of one operation, summarised by the median (robust on a shared machine).</summary>
public sealed class Samples
{
    private readonly double[] _sorted;

    public Samples(IEnumerable<double> milliseconds)
    {
        _sorted = milliseconds.Order().ToArray();
        if (_sorted.Length == 0) throw new ArgumentException("No samples.", nameof(milliseconds));
    }

    public int Count => _sorted.Length;
    public double Median => Percentile(50);
    public double Min => _sorted[0];
    public double Max => _sorted[^1];

    /// <summary>Nearest-rank percentile.</summary>
    public double Percentile(double percent) =>
        _sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];
}

public static class Timing
{
    /// <summary>Runs <paramref name="operation"/> <paramref name="warmups"/> times untimed, then <paramref name="runs"/> times timed.</summary>
    public static Samples Measure(Action operation, int runs, int warmups = 1)
    {
        for (int i = 0; i < warmups; i++) operation();
        var samples = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            operation();
            samples[i] = clock.Elapsed.TotalMilliseconds;
        }
        return new Samples(samples);
    }

    public static string Milliseconds(double ms) => ms switch
    {
        >= 1000 => $"{ms / 1000:0.00} s",
        >= 10 => $"{ms:0} ms",
        >= 1 => $"{ms:0.0} ms",
        _ => $"{ms * 1000:0} µs",
    };

    public static string Microseconds(double us) => us >= 1000 ? $"{us / 1000:0.00} ms" : us >= 10 ? $"{us:0} µs" : $"{us:0.0} µs";

    public static string Ratio(double ratio) => ratio >= 10 ? $"{ratio:0}×" : $"{ratio:0.00}×";
}
