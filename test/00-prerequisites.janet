# Runs first (sorted order): the judge tools the suites need are here, or
# one line each says which is missing and how to get it.
(import ./support/prerequisites)

(def missing (prerequisites/missing))
(if (empty? missing)
  (printf "prerequisites: all %d judge tools found" (length prerequisites/tools))
  (do
    (each line (prerequisites/report missing) (eprint line))
    (os/exit 1)))
