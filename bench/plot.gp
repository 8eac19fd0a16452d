# plot.gp: bench/results.png from the bench's medians (bench/bench.sh
# passes datafile, outfile and conns): each scenario's req/s and p99
# against its ceiling (hello-world FastCGI or CGI, or the raw hash)
set terminal pngcairo size 1000,700 font ",9"
set output outfile
set datafile separator "\t"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30 left nomirror
set grid ytics
set key top right
set logscale y
set multiplot layout 2,1 title sprintf("reverify bench, %s connections (median of the rounds)", conns)
set ylabel "req/s (log)"
plot datafile using 4:xtic(1) title "ceiling" lc rgb "#bbbbbb", \
     '' using 2 title "scenario" lc rgb "#3366cc"
set ylabel "p99 ms (log)"
plot datafile using 5:xtic(1) title "ceiling" lc rgb "#bbbbbb", \
     '' using 3 title "scenario" lc rgb "#cc6633"
unset multiplot
